"""The questionnaire (Leitfragebogen): its definition as data and the engine that turns it into
WTForms forms and validated answers. No Flask imports; built in the questionnaire issue.
"""
