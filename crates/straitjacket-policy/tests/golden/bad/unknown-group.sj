default kill
allow @basic-ioo
