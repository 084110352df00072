#!/bin/sh
# restore-gate.sh: CRIU's action script (--action-script) for a restore whose page files the
# daemon still verifies while CRIU restores (RestoreContext.resumeGate; src/restore-gate.ts).
# A shell script, not perl: CRIU runs it at each of its 4-6 restore actions, and sh starts
# in a quarter of perl's time.
#
# All actions but post-restore pass. At post-restore every task of the tree is restored and
# stopped at CRIU's last barriers: none has run an instruction of its own yet (CRIU 4.2
# criu/cr-restore.c restore_root_task: run_scripts(ACT_POST_RESTORE) comes before the network
# is unlocked and the tasks are released). The script then waits for the daemon's word on the
# FIFO named by $CEDANA_RESTORE_GATE:
#   "resume"  exit 0: CRIU goes on and resumes the tasks
#   else      exit 1 ("kill": a page file does not match checkpoint.json; end of file: the
#             daemon went away): CRIU aborts ("Aborting restore due to post-restore script
#             ret code"), kills every restored task and fails the restore.
# (A failing pre-resume script would not do: CRIU logs its code and resumes the tasks anyway.)

[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] || exit 0
if [ ! -p "$CEDANA_RESTORE_GATE" ]; then
  echo "restore-gate: the gate '$CEDANA_RESTORE_GATE' is not a FIFO" >&2
  exit 1
fi
word=
read -r word <"$CEDANA_RESTORE_GATE"
[ "$word" = resume ] && exit 0
if [ -z "$word" ]; then why='the daemon went away'; else why='a page file does not match checkpoint.json'; fi
echo "restore-gate: the restored tasks are not let run: $why" >&2
exit 1
