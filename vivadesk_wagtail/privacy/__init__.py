"""Data protection's readers: what a customer's data export contains."""
