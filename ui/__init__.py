"""The Gradio community board: storage, board rules, classifier client and UI."""
