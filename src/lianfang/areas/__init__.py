"""The administrative tree: city → county/district → town/street → village/community."""
