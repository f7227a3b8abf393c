"""Curation for people who look at photos: bursts, star ratings, a contact sheet and a demo (README)."""
