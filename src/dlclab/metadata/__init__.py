"""Meta-data of the lab's distributed storage (GRADLCI / APPDS): the catalogue (models,
migrations, thesaurus) and the mapping-driven extractor that fills it."""
