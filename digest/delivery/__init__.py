"""Delivery by email: messages planned per recipient, sent by SMTP, remembered so none goes twice."""
