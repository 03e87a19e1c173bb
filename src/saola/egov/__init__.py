"""The one-stop public administration centre: procedures catalogue, dossiers, statistics and the queue."""
