"""Inference-side code shared by TorchServe and training: preprocessing, tokenizers, the handler."""
