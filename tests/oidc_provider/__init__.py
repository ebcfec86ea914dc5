"""A throwaway OpenID Connect provider for the SSO tests (django-oauth-toolkit with OIDC on).

Started by tests/sso/provider.py in its own process on 127.0.0.1, with its own SQLite database,
an RSA signing key and a configuration file (users and their claims, the registered client) in a
directory the test owns.
"""
