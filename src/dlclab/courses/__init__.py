"""nbgrader courses of the lab (astroparticle.online): registry, provisioning, exchange."""
