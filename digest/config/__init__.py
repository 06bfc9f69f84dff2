"""The settings model and how it is loaded (defaults ← _config.yml ← digest.toml ← flags given)."""
from digest.config.load import load_settings, output_folder
from digest.config.settings import CONFIG_NAME, EditionOptions, Settings, Shapes, shaping

__all__ = ["CONFIG_NAME", "EditionOptions", "Settings", "Shapes", "load_settings", "output_folder", "shaping"]
