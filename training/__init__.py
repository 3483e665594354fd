"""Fine-tuning, evaluation and model-registry code for the ad classifier."""
