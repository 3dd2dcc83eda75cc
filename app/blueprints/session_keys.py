"""The names under which the questionnaire keeps its state in the visitor's session (the
questionnaire and the workspace's "enter for a business" both open a draft)."""

#: The id of the visitor's open questionnaire draft.
QUESTIONNAIRE_DRAFT = "questionnaire_draft"
#: The kind ("new" or "edit") of the draft just submitted, for the thank-you page.
QUESTIONNAIRE_RESULT = "questionnaire_result"
#: [address, reason held back or ""] of the resume link mailed when saving for later.
RESUME_MAIL = "resume_mail"
#: The number of the entry its owner just erased (for the confirmation page).
ERASED_ENTRY = "erased_entry"
