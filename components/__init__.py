"""genesys-messaging: Genesys Cloud web messaging declared as a Pulumi program."""
