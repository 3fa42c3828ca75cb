"""Training: the batched trainer, ensemble optimisers and gradient transforms, losses and minibatch streams,
checkpoints and the device."""
