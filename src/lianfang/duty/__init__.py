"""Duty rosters (值班值守): who is on duty where and when, and their handover notes."""
