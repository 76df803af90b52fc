"""Offer: which offer will this customer take next (none, a discount, an upgrade or a bundle)?"""

from models.offer.model import Offer

__all__ = ["Offer"]
