"""TorchServe packaging, configuration and process control."""
