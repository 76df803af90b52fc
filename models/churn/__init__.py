"""Churn: will this customer leave in the next 90 days?"""

from models.churn.model import Churn

__all__ = ["Churn"]
