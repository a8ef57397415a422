from skureel.cli import main

main()
