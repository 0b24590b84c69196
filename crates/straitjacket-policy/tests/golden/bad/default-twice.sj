default kill
default allow
