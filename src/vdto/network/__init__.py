"""Supply networks and the US enforcement package."""
