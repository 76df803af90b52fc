"""Segment: which behavioural segment does this customer belong to?"""

from models.segment.model import Segment

__all__ = ["Segment"]
