default allow
net connect any
net bind *:0
