"""The shared city database: an NGSI-LD (ETSI GS CIM 009 V1.8.1) context broker."""
