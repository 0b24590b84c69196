default kill
arch x86_64, sparc
