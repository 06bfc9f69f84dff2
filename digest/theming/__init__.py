"""theming"""
