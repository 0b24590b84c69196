default kill
allow opnat
