"""The simulator written the way a Mesa 3 user would write it (see README.md)."""
