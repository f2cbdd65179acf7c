from modernize.launch import console

console()
