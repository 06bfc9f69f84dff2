"""editions/email"""
