"""Yunying (运营): self-hosted e-commerce operations platform."""
