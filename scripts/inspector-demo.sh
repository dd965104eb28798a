#!/usr/bin/env bash
# The demo (README command 1 runs it): what a VMM developer does with the vsmmu inspector while
# bringing up a vSMMU — build the structures a guest driver writes, and read back what a guest
# or the model produced. Usage: scripts/inspector-demo.sh path/to/vsmmu
set -euo pipefail
vsmmu="${1:?usage: $0 path/to/vsmmu}"

step() { printf '\n== %s\n' "$1"; }
run() { printf '$ vsmmu %s\n' "$*"; "$vsmmu" "$@"; }

step "A stage-1 STE, as Linux writes it for a device with one context descriptor at 0x80000040"
ste=$("$vsmmu" encode ste V=1 Config=5 S1Fmt=0 S1ContextPtr=0x80000040 S1CDMax=0 S1DSS=0 \
      S1CIR=1 S1COR=1 S1CSH=3 STRW=0 SHCFG=1)
printf '$ vsmmu encode ste V=1 Config=5 S1ContextPtr=0x80000040 S1CIR=1 S1COR=1 S1CSH=3 SHCFG=1\n%s\n' "$ste"
# shellcheck disable=SC2086
run decode ste $ste --text | grep -E '^(V|Config|S1Fmt|S1ContextPtr|S1CDMax|S1DSS|S1CIR|S1COR|S1CSH|SHCFG) '

step "Its context descriptor: 48-bit VA, 4KB granule, ASID 1, TTB0 at 0x81000000"
cd=$("$vsmmu" encode cd V=1 T0SZ=16 TG0=0 IR0=1 OR0=1 SH0=3 EPD1=1 IPS=5 AA64=1 ASID=1 \
     TTB0=0x81000000 MAIR0=0x0000ff44 AFFD=1 R=1 A=1)
printf '$ vsmmu encode cd V=1 T0SZ=16 TG0=0 EPD1=1 IPS=5 AA64=1 ASID=1 TTB0=0x81000000 ...\n%s\n' "$cd"
# shellcheck disable=SC2086
run decode cd $cd --text | grep -E '^(V|T0SZ|TG0|EPD1|IPS|AA64|ASID|TTB0) '

step "Commands the guest driver then queues"
cfgi=$("$vsmmu" encode cmd CMD_CFGI_STE StreamID=0x10 Leaf=1)
# shellcheck disable=SC2086
run decode cmd $cfgi
all=$("$vsmmu" encode cmd CMD_CFGI_ALL)
# shellcheck disable=SC2086
run decode cmd $all
sync=$("$vsmmu" encode cmd CMD_SYNC CS=1 MSIAddress=0x8000f000 MSIData=0x1)
# shellcheck disable=SC2086
run decode cmd $sync

step "An event the model recorded: a stage-1 translation fault on a write to 0x1234000"
evt=$("$vsmmu" encode event F_TRANSLATION StreamID=0x10 InputAddr=0x1234000 RnW=0 CLASS=1)
# shellcheck disable=SC2086
run decode event $evt

step "Reading an ID register: SMMU_IDR0 of a two-stage SMMU (AArch64 tables, 2-level stream table, 16-bit ASID/VMID, MSIs, no stalls)"
run decode reg IDR0 0x090c301b --text

step "Bad input is refused with a one-line message"
if "$vsmmu" decode ste 0x1 0x2 2>&1; then echo "unexpected success"; exit 1; fi
if "$vsmmu" encode ste Config=9 2>&1; then echo "unexpected success"; exit 1; fi
printf '\nDone: every structure above round-trips through encode and decode.\n'
