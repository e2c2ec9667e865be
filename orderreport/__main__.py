from orderreport.entry import main

main()
