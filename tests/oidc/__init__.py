"""OpenID Connect providers for the single sign-on tests, and the switch that turns single
sign-on on for one test: a provider of our own in Python (keys we control, to forge tokens)
and a real one, panva/oidc-provider on Node (provider.mjs, installed by `npm ci` here)."""
