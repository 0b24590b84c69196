default kill
allow clone if !(clone_flags & CLONE_NEWUSER)
allow clone3
