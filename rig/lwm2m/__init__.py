"""LwM2M server side: registration, device management, codecs, Object 5 model."""
