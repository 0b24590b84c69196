include "common.sj
include common.sj
include "a\tb.sj"
hostname "sand box
