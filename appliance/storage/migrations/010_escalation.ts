export const m010_escalation = {
  version: 10,
  name: 'alarm escalation steps in the outbox and the journal',
  sql: /* sql */ `
-- ALM-13: an escalation's notifications go to each channel's escalation recipients; the step (1, 2)
-- marks them. NULL: an ordinary notification to the usual recipients.
ALTER TABLE notification_outbox ADD COLUMN escalation_step INTEGER;
-- ALM-13: the step an 'escalated' journal entry records. The due escalations are derived from the
-- alarm rows and these entries, so a restart neither loses nor repeats a step.
ALTER TABLE alarm_journal ADD COLUMN step INTEGER;
`,
};
