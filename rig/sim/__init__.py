"""The virtual board: flash, bootloader, LwM2M client, supervisor."""
