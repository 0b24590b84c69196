default kill
alow read
