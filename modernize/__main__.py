from modernize.launch import entry

entry()
