"""LTV: how much will this customer spend over the next 12 months?"""

from models.ltv.model import Ltv

__all__ = ["Ltv"]
