"""What a text is: its tokens, sentences and entity mentions. No stage logic lives here."""
