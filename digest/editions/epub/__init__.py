"""editions/epub"""
