"""editions/pdf"""
