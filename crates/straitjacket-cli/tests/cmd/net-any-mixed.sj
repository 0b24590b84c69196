default allow
net connect any, 127.0.0.1:80
