"""Dispatch (调度): directives cascaded into tasks down the area tree, their progress and
roll-up, evidence and verification, and the periodic jobs that escalate what is overdue."""
