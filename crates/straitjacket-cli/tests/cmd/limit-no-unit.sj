default allow
limit mem 64
