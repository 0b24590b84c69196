default kill
errno(EPREM) read
