#!/usr/bin/perl
# restore-gate.pl: CRIU's action script (--action-script) for a restore whose page files the
# daemon still verifies while CRIU restores (RestoreContext.resumeGate; src/restore-gate.ts).
#
# CRIU runs it at every action; all but post-restore pass. At post-restore every task of the
# tree is restored and stopped at CRIU's last barriers: none has run an instruction of its own
# yet (CRIU 4.2 criu/cr-restore.c restore_root_task: run_scripts(ACT_POST_RESTORE) comes before
# the network is unlocked and the tasks are released). The script then waits for the daemon's
# word on the FIFO named by $CEDANA_RESTORE_GATE:
#   "resume\n"  exit 0: CRIU goes on and resumes the tasks
#   else        exit 1 ("kill\n": a page file does not match checkpoint.json; end of file: the
#               daemon went away): CRIU aborts ("Aborting restore due to post-restore script
#               ret code"), kills every restored task and fails the restore.
# (A failing pre-resume script would not do: CRIU logs its code and resumes the tasks anyway.)
use strict;
use warnings;

exit 0 unless ($ENV{CRTOOLS_SCRIPT_ACTION} // '') eq 'post-restore';
my $gate = $ENV{CEDANA_RESTORE_GATE} // '';
open(my $fh, '<', $gate) or do {
  print STDERR "restore-gate: cannot open the gate '$gate': $!\n";
  exit 1;
};
my $word = <$fh> // '';
exit 0 if $word eq "resume\n";
my $why = $word eq '' ? 'the daemon went away' : 'a page file does not match checkpoint.json';
print STDERR "restore-gate: the restored tasks are not let run: $why\n";
exit 1;
