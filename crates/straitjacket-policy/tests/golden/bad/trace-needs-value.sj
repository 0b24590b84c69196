default kill
trace read
