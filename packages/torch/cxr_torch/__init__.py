"""PyTorch side of the cxr-ssl torch engine: knows nothing TypeScript does not tell it."""
